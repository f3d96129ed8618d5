# @summary A value `confkit::render` can write: a scalar, or a list of scalars
#   (written space-separated on one line).
type Confkit::Value = Variant[
  String,
  Numeric,
  Boolean,
  Array[Variant[String, Numeric, Boolean]],
]
