/**
 * NTP-style estimate of another host's clock: ask for its time `rounds` times, and from the exchange with
 * the shortest round trip take offset = remote - (sent + received) / 2. Its error is at most half that
 * round trip (the asymmetry of the two directions), which the trace records next to the offset.
 */
export interface ClockEstimate {
  offsetUs: number;
  rttUs: number;
}

export async function estimateClockOffset(
  remoteNowUs: () => Promise<number>,
  localNowUs: () => number,
  rounds = 8,
): Promise<ClockEstimate> {
  let best: ClockEstimate | undefined;
  for (let i = 0; i < rounds; i++) {
    const sent = localNowUs();
    const remote = await remoteNowUs();
    const received = localNowUs();
    const rtt = received - sent;
    if (!best || rtt < best.rttUs) best = { offsetUs: remote - (sent + received) / 2, rttUs: rtt };
  }
  return best ?? { offsetUs: 0, rttUs: 0 };
}
