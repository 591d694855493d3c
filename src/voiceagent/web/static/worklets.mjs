// The softphone's two AudioWorklet processors: the microphone to 20 ms mu-law frames, and the agent's audio
// through a small jitter buffer to the speaker (reporting how much has played, for Twilio-style marks).
import { FRAME_SAMPLES, MuLawFramer, PHONE_RATE } from "./codec.mjs";

class MuLawCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.framer = new MuLawFramer(sampleRate);
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (const frame of this.framer.push(channel)) this.port.postMessage(frame, [frame.buffer]);
    }
    return true;
  }
}

const PREBUFFER_SAMPLES = 3 * FRAME_SAMPLES; // 60 ms of 8 kHz audio before playing starts (or restarts)
const CAPACITY = PHONE_RATE * 120; // two minutes of queued speech is far more than one reply

class JitterPlayer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ring = new Float32Array(CAPACITY);
    this.read = 0;
    this.queued = 0;
    this.playing = false;
    this.position = 0; // fractional read position between ring[read] and ring[read + 1]
    this.step = PHONE_RATE / sampleRate;
    this.played = 0; // 8 kHz samples played (or dropped by `clear`) since the call started
    this.sinceReport = 0;
    this.waited = 0; // output samples a short tail has waited for more audio
    this.port.onmessage = ({ data }) => {
      if (data.type === "audio") this.enqueue(data.samples);
      else if (data.type === "clear") this.clear();
    };
  }

  enqueue(samples) {
    for (let i = 0; i < samples.length && this.queued < CAPACITY; i++) {
      this.ring[(this.read + this.queued) % CAPACITY] = samples[i];
      this.queued++;
    }
  }

  clear() {
    this.played += this.queued;
    this.queued = 0;
    this.playing = false;
    this.position = 0;
    this.port.postMessage({ type: "played", played: this.played, queued: 0 });
  }

  process(_inputs, outputs) {
    const out = outputs[0][0];
    // Start once the prebuffer is full, or when a short tail has waited as long as the prebuffer would take.
    if (!this.playing && (this.queued >= PREBUFFER_SAMPLES || this.waited * this.step >= PREBUFFER_SAMPLES)) {
      this.playing = true;
    }
    for (let i = 0; i < out.length; i++) {
      if (!this.playing || this.queued < 2) {
        out[i] = 0;
        continue;
      }
      const a = this.ring[this.read];
      const b = this.ring[(this.read + 1) % CAPACITY];
      out[i] = a + (b - a) * this.position;
      this.position += this.step;
      while (this.position >= 1 && this.queued > 1) {
        this.position -= 1;
        this.read = (this.read + 1) % CAPACITY;
        this.queued--;
        this.played++;
      }
    }
    if (this.playing && this.queued < 2) {
      // Ran dry: the last sample has played; wait for a full prebuffer again.
      this.played += this.queued;
      this.read = (this.read + this.queued) % CAPACITY;
      this.queued = 0;
      this.playing = false;
      this.position = 0;
    }
    this.waited = this.playing || this.queued === 0 ? 0 : this.waited + out.length;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    this.sinceReport += out.length;
    if (this.sinceReport >= sampleRate / 50) {
      this.sinceReport = 0;
      this.port.postMessage({ type: "played", played: this.played, queued: this.queued });
    }
    return true;
  }
}

registerProcessor("mulaw-capture", MuLawCapture);
registerProcessor("jitter-player", JitterPlayer);
