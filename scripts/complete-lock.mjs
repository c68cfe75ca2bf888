#!/usr/bin/env node
// The npm registry reachable from the build machines serves only this platform's
// native optional packages (biome, rollup), so `npm install` leaves the other
// platforms' entries out of package-lock.json and `npm ci` then refuses the lock.
// This adds those entries (version, os, cpu, optional) without download data;
// npm skips them on a non-matching platform. Run after `npm install`.
import { readFileSync, writeFileSync } from 'node:fs';

const OS = ['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'netbsd', 'sunos', 'aix', 'win32', 'openharmony'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'riscv64', 'ppc64', 's390x', 'loong64', 'mips64el', 'wasm32'];

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
const pkgs = lock.packages;
let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pkgs[key] || pkgs[`${path}/${key}`]) continue;
    const words = dep.split('/').pop().split('-');
    const entry = { version: spec.replace(/^[\^~=]/, ''), optional: true };
    if (meta.dev) entry.dev = true;
    const os = OS.find((o) => words.includes(o));
    const cpu = CPU.find((c) => words.includes(c) || words.includes(c.replace('arm', 'armv7')));
    if (words.includes('arm') || words.some((w) => w.startsWith('gnueabihf') || w.startsWith('musleabihf'))) entry.cpu = ['arm'];
    else if (cpu) entry.cpu = [cpu];
    if (os) entry.os = [os];
    if (words.includes('musl') || words.includes('musleabihf')) entry.libc = ['musl'];
    else if (words.includes('gnu') || words.includes('gnueabihf')) entry.libc = ['glibc'];
    pkgs[key] = entry;
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} optional platform entries`);
