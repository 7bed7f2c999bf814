# Loads a Vagrantfile with a stand-in for Vagrant's configuration API and prints, as JSON,
# what it configured (Vagrant itself cannot run here). Used by test_vagrant.py:
#   ruby vagrant_stub.rb PATH/TO/Vagrantfile
require "json"

# Records calls: `x.y = v` sets y; `x.y` opens namespace y; `x.y(args)` appends a call to
# the list y; `x.y(args) { |c| ... }` appends a call whose block configures its own record.
class Recorder
  def initialize(store)
    @store = store
  end

  def method_missing(name, *args, **kwargs, &block)
    key = name.to_s
    return @store[key.chomp("=")] = args.first if key.end_with?("=")

    if args.empty? && kwargs.empty? && block.nil?
      return Recorder.new(@store[key] ||= {})
    end

    call = { "args" => args, "options" => kwargs }
    if block
      call["config"] = {}
      block.call(Recorder.new(call["config"]))
    end
    (@store[key] ||= []) << call
    nil
  end

  def respond_to_missing?(*)
    true
  end
end

module Vagrant
  CONFIGS = []

  def self.require_version(*requirements)
    CONFIGS << { "require_version" => requirements }
  end

  def self.configure(version)
    root = { "version" => version }
    yield Recorder.new(root)
    CONFIGS << root
  end
end

load ARGV.fetch(0)
puts JSON.pretty_generate(Vagrant::CONFIGS)
