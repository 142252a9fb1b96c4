// AudioWorklet: the microphone as 16-bit little-endian mono PCM at the context's rate (the page opens
// the AudioContext at 16 kHz, so the browser resamples), posted in blocks of 40 ms.
class MicPCM extends AudioWorkletProcessor {
  constructor() { super(); this.block = new Int16Array(Math.round(sampleRate * 0.04)); this.n = 0; }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    for (let i = 0; i < input.length; i++) {
      const s = Math.max(-1, Math.min(1, input[i]));
      this.block[this.n++] = s < 0 ? s * 32768 : s * 32767;
      if (this.n === this.block.length) {
        this.port.postMessage(this.block.buffer.slice(0));
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor("mic-pcm", MicPCM);
