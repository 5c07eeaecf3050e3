package media

// DecodePeak returns the most images s has decoded at once.
func (s *Service) DecodePeak() int64 { return s.peak.Load() }
