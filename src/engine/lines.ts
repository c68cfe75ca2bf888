/** A writable that hands complete text lines to a callback (the last partial line on end). */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * A line longer than this is handed on in pieces of this size: output without line breaks
 * (a build printing a gigabyte of dots) must not grow one string without bound.
 */
export const MAX_LINE_CHARS = 1024 * 1024;

export function lineWriter(onLine: (line: string) => void): Writable {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (text: string) => {
    pending += text;
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      onLine(pending.slice(0, nl).replace(/\r$/, ''));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    while (pending.length >= MAX_LINE_CHARS) {
      onLine(pending.slice(0, MAX_LINE_CHARS));
      pending = pending.slice(MAX_LINE_CHARS);
    }
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      emit(decoder.write(chunk));
      done();
    },
    final(done) {
      emit(decoder.end());
      if (pending !== '') onLine(pending.replace(/\r$/, ''));
      pending = '';
      done();
    },
  });
}
