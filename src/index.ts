/**
 * effect-logrotate: size rotation and age retention for NDJSON operational logs, as
 * Effect services composed through Layers.
 */
export * as ByteSize from "./ByteSize.js"
export * from "./Errors.js"
export * as RenameShift from "./rotation/RenameShift.js"
export * as RotatingAppender from "./rotation/RotatingAppender.js"
export * as RotationPolicy from "./rotation/RotationPolicy.js"
export * as Compressor from "./retention/Compressor.js"
export * as DatedFile from "./retention/DatedFile.js"
export * as FileNaming from "./retention/FileNaming.js"
export * as LineReader from "./rotation/LineReader.js"
export * as LogrotateConfig from "./retention/LogrotateConfig.js"
export * as RetentionConfig from "./retention/RetentionConfig.js"
export * as RetentionPlan from "./retention/RetentionPlan.js"
export * as RetentionPolicy from "./retention/RetentionPolicy.js"
export * as RetentionWorker from "./retention/RetentionWorker.js"
export * as SafeFs from "./platform/SafeFs.js"
export * as SizeCap from "./retention/SizeCap.js"
export * as Sweeper from "./retention/Sweeper.js"
export * as NdjsonLogger from "./logging/NdjsonLogger.js"
export * as DailyAppender from "./rotation/DailyAppender.js"
export * as LogEvents from "./logging/LogEvents.js"
