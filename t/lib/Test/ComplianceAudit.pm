package Test::ComplianceAudit;

# The setup the audit-chain tests share: a chain key made with
# compliance-vault and an nginx with a chained trail (logs/audit.jsonl)
# in front of one public location.

use strict;
use warnings;

use Exporter 'import';

our @EXPORT_OK = qw(audit_bin genkey chained_public_config);

sub audit_bin {
    my ($t) = @_;
    return $ENV{COMPLIANCE_BIN} || $t->repo_root . '/build/bin';
}

# genkey($t, 'chain.key'): a new 32-byte key file in the prefix, its path
sub genkey {
    my ($t, $name) = @_;

    my $bin = audit_bin($t);
    my $path = $t->path($name);

    system("$bin/compliance-vault genkey $path 2>/dev/null") == 0
        or die "compliance-vault genkey $path failed\n";

    return $path;
}

# chained_public_config($t, $keyfile, $reason, main => '...'): writes
# nginx.conf; main => lines for the main level (e.g. another error_log)
sub chained_public_config {
    my ($t, $keyfile, $reason, %o) = @_;

    my $main = $o{main} // '';

    $t->write_config(<<"EOF");
%%LOAD_MODULE%%
%%TEST_GLOBALS%%
$main
events {
}
http {
    %%TEST_GLOBALS_HTTP%%

    compliance on;
    compliance_audit_log logs/audit.jsonl;
    compliance_audit_chain $keyfile;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location / {
            compliance_public "$reason";
            return 200 "ok\\n";
        }
    }
}
EOF
}

1;
