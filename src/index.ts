/**
 * effect-logrotate: size rotation and age retention for NDJSON operational logs, as
 * Effect services composed through Layers.
 */
export * as ByteSize from "./ByteSize.js"
export * from "./Errors.js"
export * as RenameShift from "./RenameShift.js"
export * as RotatingAppender from "./RotatingAppender.js"
export * as RotationPolicy from "./RotationPolicy.js"
export * as Compressor from "./Compressor.js"
export * as DatedFile from "./DatedFile.js"
export * as FileNaming from "./FileNaming.js"
export * as LineReader from "./LineReader.js"
export * as LogrotateConfig from "./LogrotateConfig.js"
export * as RetentionConfig from "./RetentionConfig.js"
export * as RetentionPlan from "./RetentionPlan.js"
export * as RetentionPolicy from "./RetentionPolicy.js"
export * as RetentionWorker from "./RetentionWorker.js"
export * as SafeFs from "./SafeFs.js"
export * as SizeCap from "./SizeCap.js"
export * as Sweeper from "./Sweeper.js"
export * as NdjsonLogger from "./NdjsonLogger.js"
export * as DailyAppender from "./DailyAppender.js"
export * as LogEvents from "./LogEvents.js"
