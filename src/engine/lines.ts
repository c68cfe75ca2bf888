/** A writable that hands complete text lines to a callback (the last partial line on end). */
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

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
