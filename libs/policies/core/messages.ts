/** Kuma's validator messages (pkg/core/validators/messages.go), verbatim. */
export const MUST_BE_DEFINED = 'must be defined';
export const MUST_NOT_BE_DEFINED = 'must not be defined';
export const MUST_BE_SET = 'must be set';
export const MUST_NOT_BE_SET = 'must not be set';
export const MUST_NOT_BE_EMPTY = 'must not be empty';
export const HAS_TO_BE_GREATER_THAN_ZERO = 'must be greater than 0';
export const MUST_BE_DEFINED_AND_GREATER_THAN_ZERO = 'must be defined and greater than zero';
export const WHEN_DEFINED_NON_NEGATIVE = 'must not be negative when defined';
export const WHEN_DEFINED_GREATER_THAN_ZERO = 'must be greater than zero when defined';
export const WHEN_DEFINED_VALID_PATH = 'must be a valid path when defined';
export const STRING_HAS_TO_BE_VALID_NUMBER = 'string must be a valid number';
export const MUST_HAVE_BPS_UNIT = 'must be in kbps/Mbps/Gbps units';
export const inRange = (min: string | number, max: string | number): string => `must be in inclusive range [${min}, ${max}]`;
export const IN_PERCENTAGE_RANGE = inRange('0.0', '100.0');
export const IN_UINT_PERCENTAGE_RANGE = inRange(0, 100);
export const mustHaveAtLeastOne = (...values: string[]): string => `must have at least one defined: ${values.join(', ')}`;
export const mustHaveOnlyOne = (entity: string, ...values: string[]): string => `${entity} must have only one type defined: ${values.join(', ')}`;
export const mustHaveExactlyOneOf = (entity: string, ...values: string[]): string => `${entity} must have exactly one defined: ${values.join(', ')}`;
/** validators.MakeFieldMustBeOneOfErr. */
export const fieldMustBeOneOf = (field: string, ...allowed: string[]): string =>
  `${JSON.stringify(field)} must be one of [${allowed.map((a) => JSON.stringify(a)).join(', ')}]`;
