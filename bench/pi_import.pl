#!/usr/bin/perl -w
# Bulk-import one mboxrd file into an initialised v2 public-inbox, the library way
# (InboxWritable::import_mbox = V2Writable->add per message, git + SQLite + Xapian as it goes).
use strict;
use PublicInbox::Config;
use PublicInbox::InboxWritable;
my ($name, $mbox) = @ARGV;
my $cfg = PublicInbox::Config->new;
my $ibx = $cfg->lookup_name($name) or die "no inbox $name\n";
$ibx = PublicInbox::InboxWritable->new($ibx);
open(my $fh, '<', $mbox) or die "$mbox: $!\n";
$ibx->import_mbox($fh, 'mboxrd');
