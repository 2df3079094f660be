// Two-way talk: the microphone's samples (after the page's low-pass filter) taken down to
// 8 kHz and encoded as G.711 µ-law, 160 samples (20 ms) to a frame, each posted to the page
// with the frame's loudness for the level meter. Runs in the AudioWorklet scope.

// µ-law of a sample in [-1, 1] (ITU-T G.711: 14-bit magnitude, bias 33, segments 0-7).
function ulaw(x) {
  let v = Math.max(-1, Math.min(1, x)) * 8159;
  const sign = v < 0 ? 0x80 : 0;
  let m = Math.min(Math.round(Math.abs(v)), 8158) + 33;
  let segment = 0;
  for (let limit = 64; m >= limit && segment < 7; limit <<= 1) segment++;
  const mantissa = (m >> (segment + 1)) & 0x0f;
  return ~(sign | (segment << 4) | mantissa) & 0xff;
}

class TalkEncoder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / 8000; // input samples per output sample
    this.position = 0; // where the next output sample falls, in input samples
    this.previous = 0; // the last input sample of the previous block
    this.frame = new Uint8Array(161);
    this.frame[0] = 0x01; // the talk socket's frame type: µ-law, 8 kHz
    this.filled = 0;
    this.energy = 0;
  }

  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    // Linear interpolation between input samples at the output's times.
    while (this.position < input.length) {
      const i = Math.floor(this.position);
      const frac = this.position - i;
      const a = i === 0 ? this.previous : input[i - 1];
      const b = input[i];
      const x = a + (b - a) * frac;
      this.energy += x * x;
      this.frame[1 + this.filled++] = ulaw(x);
      if (this.filled === 160) {
        const level = Math.sqrt(this.energy / 160);
        this.port.postMessage({ frame: this.frame.slice(), level });
        this.filled = 0;
        this.energy = 0;
      }
      this.position += this.step;
    }
    this.position -= input.length;
    this.previous = input[input.length - 1];
    return true;
  }
}

registerProcessor('nj-talk', TalkEncoder);
