// pino-roll ships no types; the subset the bench uses.
declare module "pino-roll" {
  const pinoRoll: (options: {
    readonly file: string
    readonly size?: string | number
    readonly frequency?: string | number
    readonly limit?: { readonly count?: number; readonly removeOtherLogFiles?: boolean }
    readonly mkdir?: boolean
    readonly minLength?: number
    readonly sync?: boolean
  }) => Promise<import("sonic-boom").SonicBoom>
  export default pinoRoll
}
