//! SillyTavern macro engine (issue #5).
