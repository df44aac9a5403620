// Patch content types for @kubernetes/client-node calls (its default is JSON Patch).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
