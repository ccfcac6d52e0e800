/**
 * effect-logrotate: size rotation and age retention for NDJSON operational logs, as
 * Effect services composed through Layers.
 */
export * as ByteSize from "./ByteSize.js"
export * from "./Errors.js"
export * as RenameShift from "./RenameShift.js"
export * as RotatingAppender from "./RotatingAppender.js"
export * as RotationPolicy from "./RotationPolicy.js"
