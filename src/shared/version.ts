// The product's own version, one place for `--version`, the node's nodeInfo and vic-machine. Kept
// equal to package.json's "version" by src/shared/version.test.ts.
export const productVersion = '0.1.0';
