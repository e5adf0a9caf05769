/** The x axis of the collectives benches' charts: message size on a log2 scale, labelled B/KiB/MiB. */
export function messageSizeAxis(sizes: string) {
  return {
    field: 'bytes',
    type: 'quantitative',
    scale: { type: 'log', base: 2 },
    title: 'message size',
    axis: {
      values: sizes.split(',').map(Number),
      labelExpr:
        "datum.value >= 1048576 ? datum.value / 1048576 + ' MiB' : datum.value >= 1024 ? datum.value / 1024 + ' KiB' : datum.value + ' B'",
    },
  } as const;
}
