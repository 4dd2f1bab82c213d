package aggregate

import "everywhere/pipeline/sink"

func rowsOf(n int, cols ...any) *sink.Rows { return &sink.Rows{Cols: cols, N: n} }
