// The softphone's audio maths, shared by its worklets and the unit test (node imports this file as is).
// G.711 mu-law as Twilio's Media Streams carry it: 8 kHz, one byte a sample. The encoder is the Sun/CCITT
// reference (14-bit magnitude, bias 33, clip 8159), bit for bit what the server's decoder expects.

export const PHONE_RATE = 8000;
export const FRAME_SAMPLES = 160; // 20 ms at 8 kHz: one `media` message
const SEGMENT_ENDS = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];

export function linearToMuLaw(pcm16) {
  let magnitude = pcm16 >> 2;
  let mask = 0xff;
  if (magnitude < 0) {
    magnitude = -magnitude;
    mask = 0x7f;
  }
  magnitude = Math.min(magnitude, 8159) + 0x21;
  let segment = 0;
  while (segment < 8 && magnitude > SEGMENT_ENDS[segment]) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << 4) | ((magnitude >> (segment + 1)) & 0x0f)) ^ mask;
}

export function muLawToLinear(code) {
  const inverted = ~code & 0xff;
  let magnitude = (((inverted & 0x0f) << 3) + 0x84) << ((inverted & 0x70) >> 4);
  return inverted & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

export function floatToPcm16(value) {
  const clipped = Math.max(-1, Math.min(1, value));
  return Math.round(clipped < 0 ? clipped * 32768 : clipped * 32767);
}

// Any rate down to 8 kHz: a windowed-sinc low-pass below 3.6 kHz (no aliasing into the phone band), then
// linear interpolation at the output instants. Streaming: blocks of any length, state kept between them.
export class Downsampler {
  constructor(inRate, outRate = PHONE_RATE) {
    this.step = inRate / outRate;
    const taps = 2 * Math.ceil(4 * this.step) + 1;
    const cutoff = (0.45 * outRate) / inRate; // cycles per input sample
    const middle = (taps - 1) / 2;
    const kernel = new Float32Array(taps);
    let sum = 0;
    for (let i = 0; i < taps; i++) {
      const x = i - middle;
      const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
      const phase = (2 * Math.PI * i) / (taps - 1);
      const blackman = 0.42 - 0.5 * Math.cos(phase) + 0.08 * Math.cos(2 * phase);
      kernel[i] = sinc * blackman;
      sum += kernel[i];
    }
    for (let i = 0; i < taps; i++) kernel[i] /= sum;
    this.kernel = kernel;
    this.history = new Float32Array(taps);
    this.cursor = 0; // where the next input sample goes in the history ring
    this.index = 0; // index of the next input sample
    this.next = 0; // input-sample position of the next output sample
    this.previous = 0; // the filtered sample before the current one
  }

  push(input) {
    const out = [];
    const { kernel, history } = this;
    const taps = kernel.length;
    for (let n = 0; n < input.length; n++) {
      history[this.cursor] = input[n];
      this.cursor = (this.cursor + 1) % taps;
      let filtered = 0;
      for (let i = 0, j = this.cursor; i < taps; i++, j = (j + 1) % taps) filtered += kernel[i] * history[j];
      const k = this.index++;
      while (this.next <= k) {
        const t = this.next - (k - 1);
        out.push(this.previous + (filtered - this.previous) * t);
        this.next += this.step;
      }
      this.previous = filtered;
    }
    return Float32Array.from(out);
  }
}

// Float samples at any rate -> 20 ms mu-law frames at 8 kHz.
export class MuLawFramer {
  constructor(inRate) {
    this.downsampler = new Downsampler(inRate);
    this.frame = new Uint8Array(FRAME_SAMPLES);
    this.filled = 0;
  }

  push(input) {
    const frames = [];
    for (const sample of this.downsampler.push(input)) {
      this.frame[this.filled++] = linearToMuLaw(floatToPcm16(sample));
      if (this.filled === FRAME_SAMPLES) {
        frames.push(this.frame);
        this.frame = new Uint8Array(FRAME_SAMPLES);
        this.filled = 0;
      }
    }
    return frames;
  }
}

export function decodeMuLaw(bytes) {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = muLawToLinear(bytes[i]) / 32768;
  return out;
}
