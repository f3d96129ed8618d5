# @summary The attributes of one local group, as given in Hiera under `accounts::groups`.
type Accounts::Groupspec = Struct[{
  Optional['ensure'] => Enum['present', 'absent'],
  'gid'              => Integer[1000, 59999],
}]
