import { createHash, createHmac, createPrivateKey, createPublicKey } from 'node:crypto';
import { z85Encode } from './z85.js';

/** A CURVE key pair as Z85 strings (what zeromq.js options take). */
export interface CurveKeyPair {
  publicKey: string;
  secretKey: string;
}

/** Everything a process derives from the job (or cluster) secret. Nothing here is the secret itself. */
export interface JobKeys {
  /** Short id for paths and logs; leaks nothing useful about the secret. */
  jobId: string;
  /** PLAIN password proving membership on the unencrypted data plane. */
  dataToken: string;
  /** Key pair every server socket of the job uses. */
  server: CurveKeyPair;
  /** Key pair every client socket of the job presents; the ZAP handler accepts only this public key. */
  client: CurveKeyPair;
}

// PKCS#8 DER prefix of an X25519 private key; the 32 raw key bytes follow it.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function curvePairFromSeed(seed: Buffer): CurveKeyPair {
  const priv = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  // X25519 clamps the scalar; libsodium (inside libzmq) clamps the same way, so the pair matches.
  return { publicKey: z85Encode(spki.subarray(spki.length - 32)), secretKey: z85Encode(seed) };
}

const cache = new Map<string, JobKeys>();

/**
 * Derives all job keys deterministically from the secret, so every rank (and every host) gets the same
 * keys without any key exchange: holding the secret is what proves membership.
 */
export function deriveJobKeys(secret: string): JobKeys {
  const hit = cache.get(secret);
  if (hit) return hit;
  const h = (label: string) => createHmac('sha256', secret).update(label).digest();
  const keys: JobKeys = {
    jobId: createHash('sha256').update(`tsrun-job-id:${secret}`).digest('hex').slice(0, 12),
    dataToken: h('tsrun data-plane token v1').toString('hex'),
    server: curvePairFromSeed(h('tsrun curve server v1')),
    client: curvePairFromSeed(h('tsrun curve client v1')),
  };
  cache.set(secret, keys);
  return keys;
}
