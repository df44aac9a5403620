import test from 'ava';
import { firstFileOfTar } from './container-file.js';
import { emptyFileTar } from './sandbox-file.js';

test('the archive holds the directory, then one empty file anyone may write', (t) => {
  const tar = emptyFileTar('main-0');
  t.is(tar.subarray(0, 10).toString(), '.vk-files/');
  t.is(tar.subarray(512, 529).toString(), '.vk-files/main-0\0');
  t.is(tar.subarray(512 + 100, 512 + 107).toString(), '0000666');
  t.is(firstFileOfTar(tar, 100), '');
});
