import type { Linter } from 'eslint';

/** The module-boundary blocks of the ESLint config (see boundaries.config.js). */
declare const boundariesConfig: Linter.Config[];
export default boundariesConfig;
