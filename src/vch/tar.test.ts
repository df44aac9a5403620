import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { tarArchive } from './tar.js';

function extract(archive: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'tar-test-'));
  execFileSync('tar', ['-x', '-p', '-C', dir], { input: archive });
  return dir;
}

test('files, directories and symlinks come out of GNU tar with their modes and targets', (t) => {
  const dir = extract(
    tarArchive([
      { kind: 'dir', path: '..2026', mode: 0o755 },
      { kind: 'file', path: '..2026/key', data: Buffer.from('value\n'), mode: 0o400 },
      { kind: 'file', path: '..2026/exec.sh', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
      { kind: 'symlink', path: '..data', target: '..2026' },
      { kind: 'symlink', path: 'key', target: '..data/key' },
    ]),
  );
  try {
    t.is(readFileSync(join(dir, 'key'), 'utf8'), 'value\n');
    t.is(statSync(join(dir, '..2026/key')).mode & 0o7777, 0o400);
    t.is(statSync(join(dir, '..2026/exec.sh')).mode & 0o7777, 0o755);
    t.true(lstatSync(join(dir, '..data')).isSymbolicLink());
    t.is(readlinkSync(join(dir, '..data')), '..2026');
    t.is(readlinkSync(join(dir, 'key')), '..data/key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('names longer than ustar holds travel in PAX records', (t) => {
  const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
  const target = `..data/${'t'.repeat(200)}`;
  const dir = extract(
    tarArchive([
      { kind: 'dir', path: 'd'.repeat(120), mode: 0o755 },
      { kind: 'file', path: long, data: Buffer.alloc(1000, 'x'), mode: 0o644 },
      { kind: 'symlink', path: 'link', target },
    ]),
  );
  try {
    t.is(readFileSync(join(dir, long), 'utf8'), 'x'.repeat(1000));
    t.is(readlinkSync(join(dir, 'link')), target);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an empty archive is two zero blocks', (t) => {
  const archive = tarArchive([]);
  t.is(archive.length, 1024);
  t.true(archive.every((b) => b === 0));
});
