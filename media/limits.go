package media

// MaxSize is the largest file in bytes the service stores (Config.MaxSize
// after defaults): larger uploads are refused with too_large. Clients are
// told it so that they can refuse a file before sending any of it.
func (s *Service) MaxSize() int64 { return s.cfg.MaxSize }

// Quota is the most bytes of media one user may hold (Config.Quota after
// defaults); an upload past it is refused with quota_exceeded.
func (s *Service) Quota() int64 { return s.cfg.Quota }
