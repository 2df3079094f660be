// Recording live view to this device: the fMP4 the player already receives (the camera's own
// H.264 and AAC, not re-encoded) rewritten as one ordinary MP4 (ISO/IEC 14496-12): a moov
// with full sample tables and a duration, then the media, so every player can seek in it.
// Starts at the first keyframe; audio before it is dropped, so both tracks start together.

interface Box {
  type: string;
  start: number; // of the header
  body: number; // of the payload
  end: number;
}

function boxes(view: DataView, from: number, to: number): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    let body = at + 8;
    if (size === 1) {
      size = Number(view.getBigUint64(at + 8));
      body += 8;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < body - at || at + size > to) break; // truncated: stop here
    out.push({ type, start: at, body, end: at + size });
    at += size;
  }
  return out;
}

function child(view: DataView, parent: Box, type: string): Box | undefined {
  return boxes(view, parent.body, parent.end).find((b) => b.type === type);
}

function path(view: DataView, parent: Box, ...types: string[]): Box | undefined {
  let box: Box | undefined = parent;
  for (const type of types) {
    if (!box) return undefined;
    box = child(view, box, type);
  }
  return box;
}

interface Sample {
  data: Uint8Array;
  duration: number;
  cto: number; // composition offset
  sync: boolean;
}

interface Track {
  id: number;
  timescale: number;
  video: boolean;
  trak: Uint8Array; // the init segment's trak, for its tkhd, mdhd, hdlr, stsd
  defaults: { duration: number; size: number; flags: number };
  samples: Sample[];
  firstTime: number | null; // decode time of the first sample kept
}

const nonSync = 0x00010000;

function sameBytes(a: ArrayBuffer, b: ArrayBuffer): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  return x.every((v, i) => v === y[i]);
}

export class LocalRecorder {
  private init: ArrayBuffer | null;
  private tracks = new Map<number, Track>();
  private started = false; // a video keyframe was seen
  private startSeconds = 0;

  constructor(init: ArrayBuffer | null) {
    this.init = init;
    if (init) this.readInit(init);
  }

  // One WebSocket message of the live feed: fragments (moof + mdat), or a new init segment.
  add(bytes: ArrayBuffer, init: ArrayBuffer | null): void {
    if (!this.init && init) {
      this.init = init;
      this.readInit(init);
    }
    // A reconnection brings the same init again; a different one (the camera changed its
    // stream) ends what this recording takes.
    if (!this.init || !init || (init !== this.init && !sameBytes(init, this.init))) return;
    const view = new DataView(bytes);
    for (const moof of boxes(view, 0, bytes.byteLength)) {
      if (moof.type === 'moof') this.readFragment(view, moof);
    }
  }

  // The MP4, or null when nothing was recorded.
  finish(): Blob | null {
    const kept = [...this.tracks.values()].filter((t) => t.samples.length > 0);
    if (kept.length === 0 || !kept.some((t) => t.video)) return null;
    return new Blob(buildMp4(kept) as BlobPart[], { type: 'video/mp4' });
  }

  private readInit(init: ArrayBuffer): void {
    const view = new DataView(init);
    const moov = boxes(view, 0, init.byteLength).find((b) => b.type === 'moov');
    if (!moov) return;
    const trex = new Map<number, Track['defaults']>();
    const mvex = child(view, moov, 'mvex');
    if (mvex) {
      for (const b of boxes(view, mvex.body, mvex.end)) {
        if (b.type !== 'trex') continue;
        trex.set(view.getUint32(b.body + 4), {
          duration: view.getUint32(b.body + 12),
          size: view.getUint32(b.body + 16),
          flags: view.getUint32(b.body + 20),
        });
      }
    }
    for (const trak of boxes(view, moov.body, moov.end)) {
      if (trak.type !== 'trak') continue;
      const tkhd = child(view, trak, 'tkhd');
      const mdhd = path(view, trak, 'mdia', 'mdhd');
      const hdlr = path(view, trak, 'mdia', 'hdlr');
      if (!tkhd || !mdhd || !hdlr) continue;
      const id = view.getUint32(tkhd.body + (view.getUint8(tkhd.body) === 1 ? 20 : 12));
      const timescale = view.getUint32(mdhd.body + (view.getUint8(mdhd.body) === 1 ? 20 : 12));
      const handler = String.fromCharCode(...new Uint8Array(init, hdlr.body + 8, 4));
      this.tracks.set(id, {
        id,
        timescale,
        video: handler === 'vide',
        trak: new Uint8Array(init, trak.start, trak.end - trak.start),
        defaults: trex.get(id) ?? { duration: 0, size: 0, flags: 0 },
        samples: [],
        firstTime: null,
      });
    }
  }

  private readFragment(view: DataView, moof: Box): void {
    for (const traf of boxes(view, moof.body, moof.end)) {
      if (traf.type !== 'traf') continue;
      const tfhd = child(view, traf, 'tfhd');
      if (!tfhd) continue;
      const track = this.tracks.get(view.getUint32(tfhd.body + 4));
      if (!track) continue;
      const tfhdFlags = view.getUint32(tfhd.body) & 0xffffff;
      let at = tfhd.body + 8;
      let base = moof.start;
      if (tfhdFlags & 0x01) {
        base = Number(view.getBigUint64(at));
        at += 8;
      }
      if (tfhdFlags & 0x02) at += 4; // sample description index
      let defDuration = track.defaults.duration;
      let defSize = track.defaults.size;
      let defFlags = track.defaults.flags;
      if (tfhdFlags & 0x08) (defDuration = view.getUint32(at)), (at += 4);
      if (tfhdFlags & 0x10) (defSize = view.getUint32(at)), (at += 4);
      if (tfhdFlags & 0x20) (defFlags = view.getUint32(at)), (at += 4);
      const tfdt = child(view, traf, 'tfdt');
      let time = 0;
      if (tfdt) time = view.getUint8(tfdt.body) === 1 ? Number(view.getBigUint64(tfdt.body + 4)) : view.getUint32(tfdt.body + 4);
      for (const trun of boxes(view, traf.body, traf.end)) {
        if (trun.type !== 'trun') continue;
        const flags = view.getUint32(trun.body) & 0xffffff;
        const count = view.getUint32(trun.body + 4);
        let p = trun.body + 8;
        let offset = base;
        if (flags & 0x01) (offset = base + view.getInt32(p)), (p += 4);
        let firstFlags: number | null = null;
        if (flags & 0x04) (firstFlags = view.getUint32(p)), (p += 4);
        for (let i = 0; i < count; ++i) {
          let duration = defDuration;
          let size = defSize;
          let sampleFlags = i === 0 && firstFlags !== null ? firstFlags : defFlags;
          let cto = 0;
          if (flags & 0x100) (duration = view.getUint32(p)), (p += 4);
          if (flags & 0x200) (size = view.getUint32(p)), (p += 4);
          if (flags & 0x400) (sampleFlags = view.getUint32(p)), (p += 4);
          if (flags & 0x800) (cto = view.getInt32(p)), (p += 4);
          if (offset + size > view.byteLength) return; // truncated
          this.keep(track, time, {
            data: new Uint8Array(view.buffer, view.byteOffset + offset, size).slice(),
            duration,
            cto,
            sync: track.video ? (sampleFlags & nonSync) === 0 : true,
          });
          offset += size;
          time += duration;
        }
      }
    }
  }

  private keep(track: Track, time: number, sample: Sample): void {
    const seconds = time / track.timescale;
    if (!this.started) {
      if (!track.video || !sample.sync) return;
      this.started = true;
      this.startSeconds = seconds;
    }
    if (seconds < this.startSeconds) return;
    if (track.firstTime === null) track.firstTime = time;
    track.samples.push(sample);
  }
}

// --- Writing ---------------------------------------------------------------------------

class Writer {
  private parts: Uint8Array[] = [];
  private sizes: { at: number; index: number }[] = [];
  length = 0;
  u8(v: number) {
    this.push(new Uint8Array([v & 0xff]));
  }
  u16(v: number) {
    this.push(new Uint8Array([(v >> 8) & 0xff, v & 0xff]));
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    this.push(b);
  }
  u64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v));
    this.push(b);
  }
  str(s: string) {
    this.push(new Uint8Array([...s].map((c) => c.charCodeAt(0))));
  }
  push(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
  }
  begin(type: string, version?: number, flags = 0): number {
    const at = this.length;
    this.sizes.push({ at, index: this.parts.length });
    this.u32(0);
    this.str(type);
    if (version !== undefined) this.u32(((version & 0xff) << 24) | (flags & 0xffffff));
    return at;
  }
  end() {
    const open = this.sizes.pop()!;
    new DataView(this.parts[open.index].buffer).setUint32(0, this.length - open.at);
  }
  bytes(): Uint8Array[] {
    return this.parts;
  }
}

// The trak's boxes a progressive file keeps as they are (tkhd, mdhd, hdlr, the media
// header, dinf, stsd), from the init segment.
function copyBox(w: Writer, trak: Uint8Array, ...types: string[]): Uint8Array | null {
  const view = new DataView(trak.buffer, trak.byteOffset, trak.byteLength);
  let box: Box | undefined = { type: 'trak', start: 0, body: 8, end: trak.byteLength };
  for (const type of types) box = box && child(view, box, type);
  if (!box) return null;
  const bytes = trak.slice(box.start, box.end);
  w.push(bytes);
  return bytes;
}

// The duration field of a tkhd or mdhd copied from the init segment (0 there).
function patchDuration(box: Uint8Array | null, duration: number, kind: 'tkhd' | 'mdhd') {
  if (!box) return;
  const view = new DataView(box.buffer, box.byteOffset, box.byteLength);
  const body = 8; // after size and type
  const v1 = view.getUint8(body) === 1;
  // After version and flags: tkhd has creation, modification, track_ID, reserved; mdhd has
  // creation, modification, timescale (the times 8 bytes each in version 1).
  const at = body + 4 + (v1 ? 16 : 8) + (kind === 'tkhd' ? 8 : 4);
  if (v1) view.setBigUint64(at, BigInt(duration));
  else view.setUint32(at, duration >>> 0);
}

function buildMp4(tracks: Track[]): Uint8Array[] {
  const movieTimescale = 1000;
  const head = new Writer();
  head.begin('ftyp');
  head.str('isom');
  head.u32(0x200);
  head.str('isomiso2avc1mp41');
  head.end();

  // The media: each track's samples, one chunk per track.
  const mediaSize = tracks.reduce((n, t) => n + t.samples.reduce((m, s) => m + s.data.length, 0), 0);
  const large = mediaSize + 16 > 0xffffffff;
  const moovSize = (offsets: number[]) => moov(tracks, movieTimescale, offsets, large).length;
  // The moov's size does not depend on the offsets' values: measure it, then place the media.
  const provisional = tracks.map(() => 0);
  const mdatStart = head.length + moovSize(provisional);
  const mdatHeader = large ? 16 : 8;
  const offsets: number[] = [];
  let at = mdatStart + mdatHeader;
  for (const t of tracks) {
    offsets.push(at);
    at += t.samples.reduce((m, s) => m + s.data.length, 0);
  }
  const out = [...head.bytes(), ...moov(tracks, movieTimescale, offsets, large).bytes()];
  const mdat = new Writer();
  if (large) {
    mdat.u32(1);
    mdat.str('mdat');
    mdat.u64(mediaSize + 16);
  } else {
    mdat.u32(mediaSize + 8);
    mdat.str('mdat');
  }
  out.push(...mdat.bytes());
  for (const t of tracks) for (const s of t.samples) out.push(s.data);
  return out;
}

function moov(tracks: Track[], movieTimescale: number, offsets: number[], large: boolean): Writer {
  const w = new Writer();
  const durations = tracks.map((t) => t.samples.reduce((n, s) => n + s.duration, 0));
  const movieDuration = Math.max(...tracks.map((t, i) => Math.round((durations[i] / t.timescale) * movieTimescale)));
  w.begin('moov');
  w.begin('mvhd', 0);
  w.u32(0); // creation
  w.u32(0); // modification
  w.u32(movieTimescale);
  w.u32(movieDuration);
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.push(new Uint8Array(10));
  for (const v of [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000]) w.u32(v);
  w.push(new Uint8Array(24));
  w.u32(Math.max(...tracks.map((t) => t.id)) + 1);
  w.end();
  tracks.forEach((t, i) => {
    w.begin('trak');
    patchDuration(copyBox(w, t.trak, 'tkhd'), Math.round((durations[i] / t.timescale) * movieTimescale), 'tkhd');
    w.begin('mdia');
    patchDuration(copyBox(w, t.trak, 'mdia', 'mdhd'), durations[i], 'mdhd');
    copyBox(w, t.trak, 'mdia', 'hdlr');
    w.begin('minf');
    if (!copyBox(w, t.trak, 'mdia', 'minf', 'vmhd')) copyBox(w, t.trak, 'mdia', 'minf', 'smhd');
    copyBox(w, t.trak, 'mdia', 'minf', 'dinf');
    w.begin('stbl');
    copyBox(w, t.trak, 'mdia', 'minf', 'stbl', 'stsd');
    // stts: runs of equal durations.
    const runs: [number, number][] = [];
    for (const s of t.samples) {
      const last = runs[runs.length - 1];
      if (last && last[1] === s.duration) last[0] += 1;
      else runs.push([1, s.duration]);
    }
    w.begin('stts', 0);
    w.u32(runs.length);
    for (const [count, delta] of runs) (w.u32(count), w.u32(delta));
    w.end();
    if (t.samples.some((s) => s.cto !== 0)) {
      w.begin('ctts', 1);
      w.u32(t.samples.length);
      for (const s of t.samples) (w.u32(1), w.u32(s.cto));
      w.end();
    }
    if (t.video) {
      const sync = t.samples.map((s, n) => (s.sync ? n + 1 : 0)).filter((n) => n > 0);
      w.begin('stss', 0);
      w.u32(sync.length);
      for (const n of sync) w.u32(n);
      w.end();
    }
    w.begin('stsc', 0); // one chunk holding every sample
    w.u32(1);
    w.u32(1);
    w.u32(t.samples.length);
    w.u32(1);
    w.end();
    w.begin('stsz', 0);
    w.u32(0);
    w.u32(t.samples.length);
    for (const s of t.samples) w.u32(s.data.length);
    w.end();
    if (large) {
      w.begin('co64', 0);
      w.u32(1);
      w.u64(offsets[i]);
    } else {
      w.begin('stco', 0);
      w.u32(1);
      w.u32(offsets[i]);
    }
    w.end();
    w.end(); // stbl
    w.end(); // minf
    w.end(); // mdia
    w.end(); // trak
  });
  w.end(); // moov
  return w;
}
