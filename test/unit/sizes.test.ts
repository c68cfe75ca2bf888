/**
 * Small modules with one job: no file under src/ over 400 lines, and no function whose
 * body spans more than 80 lines unless the comment block directly above it says
 * "One job:" and why. Read with the TypeScript parser, so every kind of function counts:
 * declarations, methods, and arrow functions or function expressions given to a const.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

const src = join(repoRoot, 'src');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const ONE_JOB = 'One job:';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Lines of a text as an editor counts them (a final newline does not start a line). */
const lineCount = (text: string): number => text.replace(/\n$/, '').split('\n').length;

/** The statement a function's header comment sits above: the const's statement for `const f = () => …`. */
function headerHolder(node: ts.Node): ts.Node {
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const decl = node.parent;
    if (ts.isVariableDeclaration(decl) && ts.isVariableDeclarationList(decl.parent))
      return decl.parent.parent;
  }
  return node;
}

/** Whether the comment block directly above a node (JSDoc or line comments) says "One job:" with a reason. */
function hasOneJobHeader(node: ts.Node, file: ts.SourceFile): boolean {
  const ranges = ts.getLeadingCommentRanges(file.text, node.getFullStart()) ?? [];
  return ranges.some((r) => {
    const comment = file.text.slice(r.pos, r.end);
    const at = comment.indexOf(ONE_JOB);
    return at !== -1 && /\w/.test(comment.slice(at + ONE_JOB.length));
  });
}

function functionName(node: ts.Node, file: ts.SourceFile): string {
  const holder = headerHolder(node);
  if (holder !== node && ts.isVariableStatement(holder)) {
    const decl = node.parent as ts.VariableDeclaration;
    return decl.name.getText(file);
  }
  const named = node as ts.FunctionLikeDeclaration;
  return named.name ? named.name.getText(file) : '(anonymous)';
}

/** The functions a size limit applies to: declarations, methods, and functions given to a const. */
function isCountedFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node))
    return true;
  if (ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) return true;
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const decl = node.parent;
    return (
      ts.isVariableDeclaration(decl) &&
      decl.initializer === node &&
      ts.isVariableDeclarationList(decl.parent) &&
      (decl.parent.flags & ts.NodeFlags.Const) !== 0
    );
  }
  return false;
}

/** Problems of one source text: the file's length, then each long function without a "One job:" header. */
function sizeProblems(path: string, text: string): string[] {
  const problems: string[] = [];
  const lines = lineCount(text);
  if (lines > MAX_FILE_LINES) problems.push(`${path}: ${lines} lines (limit ${MAX_FILE_LINES})`);
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    if (isCountedFunction(node) && node.body) {
      const first = file.getLineAndCharacterOfPosition(node.body.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.body.getEnd()).line;
      const span = last - first + 1;
      if (span > MAX_FUNCTION_LINES && !hasOneJobHeader(headerHolder(node), file))
        problems.push(
          `${path}:${first + 1}: function ${functionName(node, file)} spans ${span} lines (limit ${MAX_FUNCTION_LINES}; or say "${ONE_JOB} why" in its header)`,
        );
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return problems;
}

/** A function whose body spans `bodyLines` lines (its braces included), under an optional header. */
function plantedFunction(bodyLines: number, header = ''): string {
  const inner = Array.from({ length: bodyLines - 2 }, (_, i) => `  const v${i} = ${i};`);
  return `${header}export function planted(): void {\n${inner.join('\n')}\n}\n`;
}

describe('sizes', () => {
  it('fails a planted 401-line file and passes a 400-line one', () => {
    const text = (n: number) =>
      `${Array.from({ length: n }, (_, i) => `export const c${i} = ${i};`).join('\n')}\n`;
    expect(sizeProblems('planted.ts', text(401))).toEqual(['planted.ts: 401 lines (limit 400)']);
    expect(sizeProblems('planted.ts', text(400))).toEqual([]);
  });

  it('fails a planted 81-line function of every counted kind and passes an 80-line one', () => {
    expect(sizeProblems('planted.ts', plantedFunction(81))).toEqual([
      'planted.ts:1: function planted spans 81 lines (limit 80; or say "One job: why" in its header)',
    ]);
    expect(sizeProblems('planted.ts', plantedFunction(80))).toEqual([]);
    const body = plantedFunction(81).slice('export function planted(): void '.length);
    const kinds = [
      `export const arrow = (): void => ${body}`,
      `export const expr = function (): void ${body}`,
      `export class K {\n  method(): void ${body}}\n`,
    ];
    for (const text of kinds) expect(sizeProblems('planted.ts', text), text.slice(0, 40)).toHaveLength(1);
  });

  it('passes an 81-line function whose header says "One job:" and why, not one that only says "One job:"', () => {
    const jsdoc = '/**\n * Parses the table.\n * One job: a single state machine over the rows.\n */\n';
    expect(sizeProblems('planted.ts', plantedFunction(81, jsdoc))).toEqual([]);
    expect(
      sizeProblems('planted.ts', plantedFunction(81, '// One job: one switch over the kinds.\n')),
    ).toEqual([]);
    const arrow = `${jsdoc}export const arrow = (): void => ${plantedFunction(81).slice('export function planted(): void '.length)}`;
    expect(sizeProblems('planted.ts', arrow)).toEqual([]);
    expect(sizeProblems('planted.ts', plantedFunction(81, '/** One job: */\n'))).toHaveLength(1);
    // A comment further up, separated by code, is not this function's header.
    const far = `// One job: something else.\nconst x = 1;\n${plantedFunction(81)}`;
    expect(sizeProblems('planted.ts', far)).toHaveLength(1);
  });

  it(`no file under src/ is over ${MAX_FILE_LINES} lines and no function over ${MAX_FUNCTION_LINES} without a "One job:" header`, () => {
    const problems = tsFiles(src).flatMap((path) =>
      sizeProblems(`src/${relative(src, path).split(sep).join('/')}`, readFileSync(path, 'utf8')),
    );
    expect(problems).toEqual([]);
  });
});
