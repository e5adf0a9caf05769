/** Number and label formatting shared by the charts and the Markdown tables. */

function formatBytes(bytes: number): string {
  if (bytes <= 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toPrecision(2)} ${units[i]}`;
}

export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return '–';
  if (s < 10) return s.toFixed(2);
  if (s < 100) return s.toFixed(1);
  return s.toFixed(0);
}

export function formatNumber(v: number | undefined, digits = 4): string {
  if (v === undefined) return '–';
  if (Math.abs(v) >= 1e5) return v.toExponential(digits - 1);
  return v.toPrecision(digits);
}

export function styleLabel(style: string): string {
  return style === 'spmd' ? 'spmd (PyTorch style)' : style === 'pool' ? 'pool (Ray style)' : style;
}

export function sizeLabel(size: string, bytes: number): string {
  return bytes > 0 ? `${size} (${formatBytes(bytes)})` : size;
}

export function experimentTitle(experiment: string, mode: string | undefined): string {
  const name = experiment === 'kmeans' ? 'k-means' : experiment === 'pagerank' ? 'PageRank' : 'Pneumonia CNN';
  return mode ? `${name}, ${mode} mode` : name;
}
