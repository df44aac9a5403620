import test from 'ava';
import { containerSpec } from './pod-vm-spec.js';

test('$(VAR) in command and args expands from the container env, as the kubelet does; src/vch gets them expanded', (t) => {
  const spec = containerSpec(
    {
      name: 'c',
      image: 'i',
      command: ['echo', '$(NAME)', '$$(NAME)'],
      args: ['$(EMPTY)x', '$(MISSING)', '$(NAME'],
    },
    [
      { name: 'NAME', value: 'first' },
      { name: 'EMPTY', value: '' },
      { name: 'NAME', value: 'pod' },
    ],
  );
  t.deepEqual(spec.command, ['echo', 'pod', '$(NAME)']);
  t.deepEqual(spec.args, ['x', '$(MISSING)', '$(NAME']);
});
