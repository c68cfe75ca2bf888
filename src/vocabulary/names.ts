/**
 * Names the config files, the plan and the run records all speak. They live at the
 * bottom so the layers that check, plan and record names need not import one another.
 */

/** A board, image or pin name: boards/NAME.yaml, images/NAME.yaml, pins/NAME.yaml. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** SRI sha256 as nix prints it: `sha256-` + 44 base64 characters. */
export const NAR_HASH_PATTERN = /^sha256-[A-Za-z0-9+/]{43}=$/;
