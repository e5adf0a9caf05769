// Z85 (ZeroMQ RFC 32) encoding of 32-byte CURVE keys; zeromq.js takes keys as Z85 strings.
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError(`z85: input length ${data.length} is not a multiple of 4`);
  let out = '';
  for (let i = 0; i < data.length; i += 4) {
    let value = ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
    let chunk = '';
    for (let j = 0; j < 5; j++) {
      chunk = ALPHABET[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}
