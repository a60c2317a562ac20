/** Types for bin/build.js (plain JavaScript, so that it runs without tsx). */
export declare const ROOT: string;
export declare const DIST: string;
export interface Places {
  /** The checkout whose src/ is built (default: this one). */
  readonly root?: string;
  /** Where the bundles and their stamp go (default: ROOT/dist). */
  readonly outdir?: string;
}
/** Whether `outdir` holds what building `root` now would make (cheap: stats, no source read). */
export declare function isFresh(places?: Places): boolean;
/** Builds `root`'s entries into `outdir`; how long it took, how many sources and files. */
export declare function build(places?: Places): Promise<{ ms: number; inputs: number; files: number }>;
export declare class NotWritable extends Error {
  readonly code: string;
}
export declare class BuildFailed extends Error {}
