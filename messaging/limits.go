package messaging

import "time"

// MaxText is the longest text a message or a file's caption may have, in
// characters (Config.MaxText after defaults); longer text is refused with
// too_long. Clients are told it so that they can say so as it is typed.
func (s *Service) MaxText() int { return s.cfg.MaxText }

// EditWindow is how long after sending an author may edit a message
// (Config.EditWindow after defaults).
func (s *Service) EditWindow() time.Duration { return s.cfg.EditWindow }
