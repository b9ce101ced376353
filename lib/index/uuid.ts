/**
 * UUID text as Qdrant's uuid index reads it (the `uuid` crate's `Uuid::parse_str`, checked against Qdrant
 * Edge 0.9): 32 hex digits, the hyphenated 8-4-4-4-12 form, the hyphenated form in braces, or the hyphenated
 * form after `urn:uuid:` (any case). Hex digits in any case. Everything else, including surrounding spaces,
 * is not a UUID.
 *
 * @module
 */

const HYPHENS = [8, 13, 18, 23];

/**
 * The canonical form (lowercase, hyphenated) of a UUID string, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import { canonicalUuid } from "./uuid.ts";
 * console.log(canonicalUuid("550E8400E29B41D4A716446655440000")); // "550e8400-e29b-41d4-a716-446655440000"
 * console.log(canonicalUuid("not-a-uuid")); // undefined
 * ```
 */
export function canonicalUuid(text: string): string | undefined {
  switch (text.length) {
    case 32:
      return allHex(text, 0, 32) ? hyphenate(text.toLowerCase()) : undefined;
    case 36:
      return hyphenated(text, 0);
    case 38:
      return text[0] === "{" && text[37] === "}" ? hyphenated(text, 1) : undefined;
    case 45:
      return text.slice(0, 9).toLowerCase() === "urn:uuid:" ? hyphenated(text, 9) : undefined;
    default:
      return undefined;
  }
}

function hyphenated(text: string, from: number): string | undefined {
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(from + i);
    if (HYPHENS.includes(i)) {
      if (c !== 0x2d) return undefined;
    } else if (!isHex(c)) {
      return undefined;
    }
  }
  return text.slice(from, from + 36).toLowerCase();
}

function allHex(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isHex(text.charCodeAt(i))) return false;
  return true;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function hyphenate(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
