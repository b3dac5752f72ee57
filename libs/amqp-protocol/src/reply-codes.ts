// Reply codes are generated from the spec's <constant> elements; see scripts/generate.mjs.
export { ReplyCode } from './generated/constants';
