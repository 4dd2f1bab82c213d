package events

// Bounds of the contract and of sanity.
const (
	// MaxIDBytes is the longest id the contract allows.
	MaxIDBytes = 64
	// MinTS and MaxTS bound event times (2000-01-01 and 2200-01-01 in Unix
	// milliseconds). The range rejects times sent in seconds or microseconds,
	// the most common upstream mistake, instead of reading them as 1970 or
	// the far future.
	MinTS = 946_684_800_000
	MaxTS = 7_258_118_400_000
	// DefaultRadiusM and MaxRadiusM bound a need's search radius.
	DefaultRadiusM = 3000
	MaxRadiusM     = 20000
	// MinCredit and MaxCredit bound credit scores.
	MinCredit = 350
	MaxCredit = 950
	// maxAmount keeps sums of amounts far from int64 overflow: 10^15 minor
	// units is ten trillion in the base currency.
	maxAmount = 1_000_000_000_000_000
)
