/**
 * UTC calendar arithmetic shared by `FileNaming` and `DatedFile`: days and hours as numbers,
 * exact for every year (no `Date.UTC`, which maps years 0–99 to 1900–1999). Pure.
 * @internal
 */

/** A calendar day (proleptic Gregorian, UTC). */
export interface Day {
  readonly year: number
  /** 1–12 */
  readonly month: number
  /** 1–31 */
  readonly day: number
}

export const DAY_MS = 24 * 60 * 60 * 1000
export const HOUR_MS = 60 * 60 * 1000

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

/** Whether `year-month-day` exists in the Gregorian calendar. */
export const isValidDay = ({ year, month, day }: Day): boolean =>
  Number.isInteger(year) && Number.isInteger(month) && Number.isInteger(day) &&
  month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)

/**
 * Days since 0000-03-01 (an arbitrary epoch), by Howard Hinnant's `days_from_civil`: exact
 * integer arithmetic for every year.
 */
export const dayNumber = ({ year, month, day }: Day): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra
}

const EPOCH_DAY = dayNumber({ year: 1970, month: 1, day: 1 })

/** Epoch milliseconds of UTC midnight starting `day`. */
export const dayStartMillis = (day: Day): number => (dayNumber(day) - EPOCH_DAY) * DAY_MS

/** The UTC calendar day of an instant. */
export const utcDay = (instant: Date): Day => ({
  year: instant.getUTCFullYear(), month: instant.getUTCMonth() + 1, day: instant.getUTCDate()
})

/** `YYYY-MM-DD` of a day. */
export const formatDay = ({ year, month, day }: Day): string =>
  `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`

/** Whole days from `date` to the UTC day of `today` (0 today, 1 yesterday, negative in the future). */
export const ageInDays = (date: Day, today: Date | Day): number =>
  dayNumber(today instanceof Date ? utcDay(today) : today) - dayNumber(date)
