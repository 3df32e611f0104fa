// Roster's behaviour; the CSP forbids inline script, so it all lives here.
