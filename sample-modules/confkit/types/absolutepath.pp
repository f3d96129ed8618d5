# @summary An absolute POSIX path.
type Confkit::Absolutepath = Pattern[/\A\/[^\n\0]*\z/]
