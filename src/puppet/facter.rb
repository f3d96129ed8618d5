# Shared by rehearsal's Puppet driver (driver.rb) and its gate (gate.rb), each of which is
# this file followed by its own: Facter made lighter without changing a fact's value.
#
# Facter 4 reads the `augeas` fact's version with ruby-augeas by opening Augeas in full:
# every lens compiled and every file it knows parsed (0.6 s of an apply's 0.7 s of facts on
# Debian 12) for a string the library holds. The same call without the modules' autoload
# reads the same string at once. Facter's command-line reading (`augparse --version`)
# comes first as before; a Facter without this resolver (Facter 3's is C++) is left alone.
module AugeasVersionAtOnce
  private

  def read_augeas_from_gem
    require 'augeas'
    if Gem.loaded_specs['augeas']
      ::Augeas.create(no_modl_autoload: true) { |aug| aug.get('/augeas/version') }
    else
      ::Augeas.open(nil, nil, ::Augeas::NO_MODL_AUTOLOAD) { |aug| aug.get('/augeas/version') }
    end
  end
end

def lighten_facter
  require 'facter'
  resolver = defined?(Facter::Resolvers::Augeas) && Facter::Resolvers::Augeas
  return unless resolver && resolver.private_methods.include?(:read_augeas_from_gem)

  resolver.singleton_class.prepend(AugeasVersionAtOnce)
rescue LoadError
  nil
end
