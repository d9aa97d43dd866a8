// Library users and the CLI import Corral alone: the pure floor below it comes with it.
@_exported public import CorralCore
