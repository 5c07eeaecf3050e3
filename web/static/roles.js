// The roles an operator gives staff accounts (kurir admin role), as the
// server checks them: who works in the moderation console and who on
// law-enforcement requests. They stand apart from the console's modules so
// that the app can offer the way to the console without loading it.

const staffRoles = ['triage', 'moderator', 'admin'];

// isStaff reports whether role works in the moderation console.
export function isStaff(role) {
  return staffRoles.includes(role);
}

// isLegalTeam reports whether role works on law-enforcement requests.
export function isLegalTeam(role) {
  return role === 'legal' || role === 'admin';
}
