/**
 * The pieces every configuration module is built from (launcher/launcher-config.ts,
 * collectives/collectives-config.ts, src/transport/transport-config.ts, src/dashboard/dashboard-config.ts):
 * a field names its environment variable and its default once, and a module's config is read from an
 * environment when an object is built, never when a module is imported. An unset or empty variable means
 * the default; a value that does not parse is a ConfigError naming the variable.
 */
import { ConfigError } from './errors.js';

export type Env = Record<string, string | undefined>;

/** One configuration field: its environment twin, its default and how its text is read. */
export interface EnvField<T> {
  /** The environment variable. */
  readonly name: string;
  /** The value when the variable is unset or empty. */
  readonly default: T;
  /** The field's value in `env`. */
  read(env: Env): T;
}

function field<T>(name: string, dflt: T, parse: (text: string) => T): EnvField<T> {
  return {
    name,
    default: dflt,
    read(env) {
      const text = env[name];
      return text === undefined || text === '' ? dflt : parse(text);
    },
  };
}

function nonNegativeInt(name: string, text: string): number {
  if (!/^\d+$/.test(text.trim()))
    throw new ConfigError(`${name} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

/** A count, size or duration: a non-negative integer. */
export function intField(name: string, dflt: number): EnvField<number> {
  return field(name, dflt, (text) => nonNegativeInt(name, text));
}

/** A count, size or duration that has no default: undefined when unset. */
export function optionalIntField(name: string): EnvField<number | undefined> {
  return field<number | undefined>(name, undefined, (text) => nonNegativeInt(name, text));
}

/** Free text (an address, a directory, a secret); undefined when unset. */
export function textField(name: string): EnvField<string | undefined>;
/** Free text with a default. */
export function textField(name: string, dflt: string): EnvField<string>;
export function textField(name: string, dflt?: string): EnvField<string | undefined> {
  return field<string | undefined>(name, dflt, (text) => text);
}

/** A switch that only the value `1` turns on (so `0`, `true` or a typo leave the default). */
export function onField(name: string): EnvField<boolean> {
  return field(name, false, (text) => text === '1');
}

/** A switch that only the value `0` turns off. */
export function offField(name: string): EnvField<boolean> {
  return field(name, true, (text) => text !== '0');
}

/** One of a few words; any other value is the default, as the variable's users have always had it. */
export function choiceField<T extends string>(
  name: string,
  dflt: T,
  choices: Record<string, T>,
): EnvField<T> {
  return field(name, dflt, (text) => choices[text] ?? dflt);
}

export type EnvSpec = Record<string, EnvField<unknown>>;

/** The config a spec describes: each field's value, keeping the spec's doc comments. */
export type ConfigOf<S extends EnvSpec> = {
  readonly [K in keyof S]: S[K] extends EnvField<infer T> ? T : never;
};

/** Reads every field of `spec` from `env`. */
export function readEnvSpec<S extends EnvSpec>(spec: S, env: Env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec)) out[key] = f.read(env);
  return out as ConfigOf<S>;
}

/** The environment variables of a spec, for documentation and the README check. */
export function envNames(spec: EnvSpec): string[] {
  return Object.values(spec).map((f) => f.name);
}
