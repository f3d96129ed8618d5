# @summary The attributes of one local account, as given in Hiera under `accounts::users`.
type Accounts::Userspec = Struct[{
  Optional['ensure']      => Enum['present', 'absent'],
  'uid'                   => Integer[1000, 59999],
  'gid'                   => String[1],
  Optional['groups']      => Array[String[1]],
  Optional['comment']     => String,
  Optional['home']        => Pattern[/\A\//],
  Optional['home_mode']   => Pattern[/\A0[0-7]{3}\z/],
  Optional['shell']       => Pattern[/\A\//],
  Optional['manage_home'] => Boolean,
}]
