/**
 * The schemas in schemas/ work in the editors the README promises: yaml-language-server's own
 * language service (the one VS Code's YAML extension and others run), driven in-process, loads
 * each schema through the `# yaml-language-server: $schema=…` line of a workspace file, accepts
 * every shipped file and points at the exact position of a mistake.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

interface Position {
  line: number;
  character: number;
}
interface Diagnostic {
  range: { start: Position; end: Position };
  message: string;
  severity?: number;
  source?: string;
}
interface TextDocument {
  uri: string;
}
interface LanguageService {
  configure(settings: Record<string, unknown>): void;
  doValidation(doc: TextDocument, isKubernetes: boolean): Promise<Diagnostic[]>;
  doHover(doc: TextDocument, position: Position): Promise<{ contents: { value: string } } | null>;
}

const require = createRequire(join(repoRoot, 'package.json'));
const { getLanguageService } =
  require('yaml-language-server/lib/umd/languageservice/yamlLanguageService.js') as {
    getLanguageService(params: {
      schemaRequestService: (uri: string) => Promise<string>;
      workspaceContext: { resolveRelativePath: (relativePath: string, resource: string) => string };
    }): LanguageService;
  };
const { TextDocument: Documents } = require('vscode-languageserver-textdocument') as {
  TextDocument: { create(uri: string, language: string, version: number, text: string): TextDocument };
};

const requested: string[] = [];
const service = getLanguageService({
  // Schemas come from disk only: the modeline names a file next to the workspace.
  schemaRequestService: async (uri) => {
    requested.push(uri);
    return readFile(fileURLToPath(uri), 'utf8');
  },
  workspaceContext: { resolveRelativePath: (rel, resource) => new URL(rel, resource).href },
});
service.configure({ validate: true, hover: true, completion: true, yamlVersion: '1.2' });

/** A document at `folder/name` of the repository (it need not exist: the modeline is relative). */
function documentAt(folder: string, name: string, text: string): TextDocument {
  return Documents.create(pathToFileURL(join(repoRoot, folder, name)).href, 'yaml', 1, text);
}

const MODELINE = (file: string) => `# yaml-language-server: $schema=../schemas/${file}\n`;

describe("yaml-language-server's validator", () => {
  it.each(['boards', 'images', 'pins'])('accepts every shipped file in %s/', async (folder) => {
    const names = (await readdir(join(repoRoot, folder))).filter((n) => n.endsWith('.yaml'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const text = await readFile(join(repoRoot, folder, name), 'utf8');
      expect(await service.doValidation(documentAt(folder, name, text), false), `${folder}/${name}`).toEqual(
        [],
      );
    }
    // The schema was really loaded (an unloadable schema would also give no diagnostics).
    expect(requested.some((u) => u.endsWith(`/schemas/${folder.slice(0, -1)}.schema.json`))).toBe(true);
  });

  it('rejects a mistyped key and a wrong value, each at its position', async () => {
    const text = [
      MODELINE('board.schema.json').trimEnd(),
      'image: firmware',
      'commands: [make]',
      'artifacts: [out/bios.bin]',
      'limits:',
      '  memroy: 4294967296',
      'boot:',
      '  machine: pc',
      '  arch: x86_64',
      '  artifact: out/bios.bin',
      '  expect: SeaBIOS',
      '  channel: parallel',
      '',
    ].join('\n');
    const found = await service.doValidation(documentAt('boards', 'broken.yaml', text), false);
    const at = found.map((d) => ({
      line: d.range.start.line,
      col: d.range.start.character,
      message: d.message,
    }));
    expect(at).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ line: 5, col: 2, message: expect.stringMatching(/memroy is not allowed/) }),
        expect.objectContaining({
          line: 11,
          col: 11,
          message: expect.stringMatching(/serial.*debugcon|enum/i),
        }),
      ]),
    );
    expect(found.every((d) => d.source?.includes('board.schema.json'))).toBe(true);
  });

  it('rejects a missing required key of a pin', async () => {
    const text = `${MODELINE('pin.schema.json')}flake: github:NixOS/nixpkgs/${'a'.repeat(40)}\n`;
    const found = await service.doValidation(documentAt('pins', 'broken.yaml', text), false);
    expect(found.map((d) => d.message)).toEqual([expect.stringMatching(/Missing property "narHash"/)]);
    expect(found[0]?.range.start.line).toBe(1);
  });

  it('shows the description of a key on hover', async () => {
    const text = `${MODELINE('image.schema.json')}pin: nixpkgs\npackages: [gcc]\n`;
    const hover = await service.doHover(documentAt('images', 'x.yaml', text), { line: 2, character: 2 });
    expect(hover?.contents.value).toMatch(/Attribute names of the packages/);
  });
});
