/**
 * Loading an image into the engine: streamed in only when the engine lacks it (and only then
 * is the user told "loading"), tagged when the tag is missing.
 */
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../src/engine/port.js';
import { ensureLoaded } from '../../src/imagebuild/load.js';
import { fakeEngine } from '../helpers/fakeEngine.js';

const ID = `sha256:${'ab'.repeat(32)}`;
const TAG = 'reprorom/firmware:abababababab';
const image = { id: ID, tag: TAG, ociDir: '/nonexistent/oci' };

function info(repoTags: string[]): ImageInfo {
  return {
    id: ID,
    repoTags,
    env: [],
    entrypoint: undefined,
    cmd: undefined,
    workingDir: '',
    user: '',
    labels: {},
    created: '',
    os: 'linux',
    architecture: 'amd64',
    size: 0,
  };
}

describe('ensureLoaded', () => {
  it('an image the engine has is neither streamed in nor announced as loading; a missing tag is added', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0 }));
    const tagged: string[] = [];
    engine.inspectImage = async () => info([]);
    engine.tagImage = async (_ref, tag) => void tagged.push(tag);
    let announced = 0;
    await ensureLoaded(engine, image, undefined, () => announced++);
    expect(announced).toBe(0);
    expect(tagged).toEqual([TAG]);
  });

  it('an image the engine lacks is announced before it is streamed in', async () => {
    const engine = fakeEngine(() => ({ exitCode: 0 }));
    const order: string[] = [];
    engine.loadImage = async () => {
      order.push('load');
      return ID;
    };
    engine.tagImage = async () => void order.push('tag');
    await ensureLoaded(engine, image, undefined, () => order.push('announced')).catch(() =>
      order.push('failed'),
    );
    expect(order[0]).toBe('announced');
  });
});
