/** The actor bench/actors.ts calls, and a no-op task as the same run's reference. */
export class Echo {
  /** State an actor keeps, so each call pays for a real method on a live instance. */
  calls = 0;

  echo(i: number): number {
    this.calls += 1;
    return i;
  }

  async echoAsync(i: number): Promise<number> {
    this.calls += 1;
    return i;
  }
}

export function noop(i: number): number {
  return i;
}
