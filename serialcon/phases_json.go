package serialcon

import "encoding/json"

// MarshalJSON writes the summary for scripts: times in seconds since
// the start, the phases in order, the failures, and "error", the
// explanation [Summary.Err] gives (null once the shell was reached).
func (s Summary) MarshalJSON() ([]byte, error) {
	type transfer struct {
		File  string `json:"file"`
		Bytes int64  `json:"bytes"`
		Rate  string `json:"rate,omitempty"`
	}
	type step struct {
		Phase    Phase     `json:"phase"`
		At       float64   `json:"at"`
		Took     float64   `json:"took"`
		Line     string    `json:"line"`
		Transfer *transfer `json:"transfer,omitempty"`
	}
	type failure struct {
		Error string  `json:"error"`
		At    float64 `json:"at"`
		Line  string  `json:"line,omitempty"`
	}
	out := struct {
		Elapsed  float64   `json:"elapsed"`
		Phases   []step    `json:"phases"`
		Failures []failure `json:"failures"`
		Error    *string   `json:"error"`
	}{Elapsed: s.Elapsed.Seconds(), Phases: []step{}, Failures: []failure{}}
	for _, st := range s.Steps {
		j := step{Phase: st.Phase, At: st.Start.Seconds(), Took: st.Duration.Seconds(), Line: st.Line}
		if t := st.Transfer; t != nil {
			j.Transfer = &transfer{File: t.File, Bytes: t.Bytes, Rate: t.Rate}
		}
		out.Phases = append(out.Phases, j)
	}
	for _, f := range s.Failures {
		out.Failures = append(out.Failures, failure{Error: f.Err.Error(), At: f.At.Seconds(), Line: f.Line})
	}
	if err := s.Err(); err != nil {
		msg := err.Error()
		out.Error = &msg
	}
	return json.Marshal(out)
}
