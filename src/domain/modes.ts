import { mostRestrictiveMode, type Mode } from './vocabulary.ts';

/** One source that holds a role in a mode: an open incident, a running maintenance, an override. */
export interface ModeDeclaration {
  readonly role: string;
  readonly mode: Mode;
  readonly source: string;
}

export interface EffectiveMode {
  readonly role: string;
  readonly mode: Mode;
  /** Every declaration that holds the role in that mode (the most restrictive ones). */
  readonly sources: readonly string[];
}

/** For each role, the most restrictive declared mode and who declared it (full when nobody did). */
export function effectiveModes(roles: readonly string[], declarations: readonly ModeDeclaration[]): EffectiveMode[] {
  return roles.map((role) => {
    const mine = declarations.filter((d) => d.role === role && d.mode !== 'full');
    const mode = mostRestrictiveMode(mine.map((d) => d.mode));
    return { role, mode, sources: mine.filter((d) => d.mode === mode).map((d) => d.source) };
  });
}
