package httpapi

import (
	"net/http"

	"kurir"
	"kurir/messaging"
)

// viewsRequest lists the posts a device displayed.
type viewsRequest struct {
	Seqs []int64 `json:"seqs" jsonschema:"minItems=1,maxItems=100,description=Seqs of the messages shown on screen; each counts once per user however often it is sent."`
}

// viewsCounted answers a views report.
type viewsCounted struct {
	Counted int `json:"counted" jsonschema:"description=How many of the views were new."`
}

func handleViews(msg *messaging.Service, limit int64) http.Handler {
	return chatBody(limit, func(w http.ResponseWriter, r *http.Request, me kurir.UserID, id messaging.ChatID, req viewsRequest) {
		n, err := msg.RecordViews(r.Context(), me, id, req.Seqs)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, viewsCounted{Counted: n})
	})
}
