#!/usr/bin/env bash
# Certificate state kept in the stack's bucket between instances, sourced by lib.sh. Any dev
# instance may write the object, so nothing in it is trusted: it is unpacked into a temporary
# directory, every member is checked against the few files certbot keeps for one lineage
# (archive/<name>/{cert,chain,fullchain,privkey}N.pem and live/<name>/ symlinks into them), the key
# must match the certificate and the certificate must name every domain, and only then is it
# moved into /etc/letsencrypt. Renewal configuration and hooks are never restored: the renewal
# file is written from stack.json. ACME accounts are not kept either: certbot registers one on an
# instance that has none.

# The object holds only what restore_state accepts; the earlier state.tar.gz (the whole of
# /etc/letsencrypt) is never read again.
IE_STATE_OBJECT=certificates.tar.gz
IE_ACME_SERVER=https://acme-v02.api.letsencrypt.org/directory
IE_RENEW_HOOK=/usr/local/lib/immutable-edge/renew-hook.sh

cert_bucket_key() { printf '%s%s' "$(stack .edge.certPrefix)" "$IE_STATE_OBJECT"; }
cert_bucket_url() { printf 's3://%s/%s' "$(stack .edge.certBucket)" "$(cert_bucket_key)"; }

# state_exists prints yes or no; any other outcome is an error (status 1). ListObjectsV2 with the
# key as prefix is what the instance role may do (s3:ListBucket with an s3:prefix condition); it
# succeeds with no such key listed when there is no state, and the CLI exits non-zero on any
# error the service or the network returns (254 for a service error, 255 for others:
# https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html). HeadObject is not
# used: on a missing key it answers 403, not 404, unless s3:ListBucket is granted without
# conditions (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html), which would
# make "no state" and "denied" look alike.
state_exists() {
	local key found
	key=$(cert_bucket_key)
	found=$(aws s3api list-objects-v2 --region "$REGION" --bucket "$(stack .edge.certBucket)" --prefix "$key" \
		--query "Contents[?Key=='$key'].Key" --output text) || return 1
	if [[ $found == "$key" ]]; then echo yes; else echo no; fi
}

# restore_state brings back the certificate kept by earlier instances, if there is one. It fails
# (and boot abandons the launch) on anything but a valid state or a confirmed absence of one:
# issuing again on a read error would spend Let's Encrypt's duplicate-certificate limit.
restore_state() {
	local exists tmp
	exists=$(state_exists) || {
		log "could not tell whether certificate state exists at $(cert_bucket_url)"
		return 1
	}
	if [[ $exists == no ]]; then
		log "no certificate state at $(cert_bucket_url) yet"
		return 0
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/ie-restore.XXXXXXXX")
	local rc=0
	restore_from "$tmp" || rc=$?
	rm -rf "$tmp"
	case $rc in
	0) log "restored certificate state from $(cert_bucket_url)" ;;
	3) log "the kept certificate does not name every host the stack serves now: ordering one that does" ;;
	*)
		log "refusing the certificate state at $(cert_bucket_url)"
		return 1
		;;
	esac
}

# restore_from fails (1) on anything it cannot read or trust, and returns 3 for a sound lineage
# whose certificate lacks a name the stack serves now (a service host added since it was kept):
# that state is outgrown, not hostile, and refusing it would abandon every launch until someone
# deleted the object. A new name set is not a duplicate certificate for Let's Encrypt's limit.
restore_from() {
	local tmp=$1 root=$1/x
	mkdir "$root"
	aws s3 cp "$(cert_bucket_url)" "$tmp/state.tar.gz" --region "$REGION" --only-show-errors || return 1
	check_members "$tmp/state.tar.gz" || return 1
	tar -xzf "$tmp/state.tar.gz" -C "$root" --no-same-owner --no-same-permissions || return 1
	check_tree "$root/letsencrypt" || return 1
	check_lineage "$root/letsencrypt" || return 1
	names_served "$root/letsencrypt" || return 3
	install_lineage "$root/letsencrypt"
	write_renewal_conf
}

# state_member_ok TYPE NAME accepts only what save_state writes for the lineage: its directories,
# the archived PEMs, the live/ symlinks and certbot's READMEs. Names are matched whole, so
# absolute paths, "..", and anything else (renewal-hooks/, renewal/, accounts/, cli.ini) fail.
state_member_ok() {
	local type=$1 name=${2%/} n=$IE_CERT_NAME
	case $type in
	d) [[ $name =~ ^letsencrypt(/(archive|live)(/$n)?)?$ ]] ;;
	-) [[ $name =~ ^letsencrypt/archive/$n/(cert|chain|fullchain|privkey)[1-9][0-9]{0,5}\.pem$ ||
		$name =~ ^letsencrypt/live/($n/)?README$ ]] ;;
	l) [[ $name =~ ^letsencrypt/live/$n/(cert|chain|fullchain|privkey)\.pem$ ]] ;;
	*) return 1 ;;
	esac
}

# check_members reads the archive's index before anything is unpacked: the first character of
# tar's long listing is the member's type (- file, d directory, l symlink, h hard link, c/b/p
# devices and FIFOs), the names come from a plain listing (tar escapes control characters);
# -P lists absolute names as they are, which extraction would strip.
check_members() {
	local archive=$1 long plain types names i
	long=$(tar -tvzPf "$archive") || return 1
	plain=$(tar -tzPf "$archive") || return 1
	mapfile -t types < <(cut -c1 <<<"$long")
	mapfile -t names <<<"$plain"
	if ((${#types[@]} != ${#names[@]})) || [[ -z $plain ]]; then
		log "certificate state: unreadable member list"
		return 1
	fi
	for i in "${!names[@]}"; do
		if ! state_member_ok "${types[i]}" "${names[i]}"; then
			log "certificate state: refusing member '${names[i]}' (type ${types[i]})"
			return 1
		fi
	done
}

# check_tree looks again at what tar wrote: the same rules, one link per file (no hard links),
# and every symlink points at its own kind in archive/<name>/, as certbot makes them.
check_tree() {
	local dir=$1 type path links target base
	# NUL-separated: no name can shift the fields.
	while IFS= read -r -d '' type && IFS= read -r -d '' path && IFS= read -r -d '' links && IFS= read -r -d '' target; do
		[[ $type == f ]] && type=-
		if ! state_member_ok "$type" "letsencrypt${path:+/$path}" || { [[ $type == - ]] && ((links != 1)); }; then
			log "certificate state: refusing unpacked '$path' ($type)"
			return 1
		fi
		if [[ $type == l ]]; then
			base=$(basename "$path" .pem)
			if ! [[ $target =~ ^\.\./\.\./archive/${IE_CERT_NAME}/${base}[1-9][0-9]{0,5}\.pem$ && -f $dir/live/$IE_CERT_NAME/$target && ! -L $dir/live/$IE_CERT_NAME/$target ]]; then
				log "certificate state: refusing link $path -> $target"
				return 1
			fi
		fi
	done < <(find "$dir" -printf '%y\0%P\0%n\0%l\0')
}

# check_lineage: all four links are there, the private key is the certificate's, and fullchain
# starts with the certificate.
check_lineage() {
	local live=$1/live/$IE_CERT_NAME f
	for f in cert chain fullchain privkey; do
		[[ -L $live/$f.pem ]] || {
			log "certificate state: no live/$IE_CERT_NAME/$f.pem"
			return 1
		}
	done
	if [[ $(openssl x509 -noout -pubkey -in "$live/cert.pem") != "$(openssl pkey -pubout -in "$live/privkey.pem")" ]]; then
		log "certificate state: the private key does not match the certificate"
		return 1
	fi
	if [[ $(openssl x509 -noout -fingerprint -sha256 -in "$live/cert.pem") != "$(openssl x509 -noout -fingerprint -sha256 -in "$live/fullchain.pem")" ]]; then
		log "certificate state: fullchain.pem does not start with cert.pem"
		return 1
	fi
}

# names_served: the certificate is valid for every name the stack serves.
names_served() {
	local cert=$1/live/$IE_CERT_NAME/cert.pem name
	for name in $(stack '.edge.certificateNames[]'); do
		if ! openssl x509 -noout -checkhost "$name" -in "$cert" | grep -q ' does match certificate$'; then
			log "certificate state: the certificate does not name $name"
			return 1
		fi
	done
}

# install_lineage moves the checked lineage into place with certbot's modes: directories and
# private keys readable by root only.
install_lineage() {
	local src=$1 dst=$IE_ETC/letsencrypt d
	for d in archive live; do
		mkdir -p "$dst/$d"
		chmod 0700 "$dst/$d"
		rm -rf "${dst:?}/$d/$IE_CERT_NAME"
		cp -R -P "$src/$d/$IE_CERT_NAME" "$dst/$d/$IE_CERT_NAME"
		chmod 0700 "$dst/$d/$IE_CERT_NAME"
	done
	find "$dst/archive/$IE_CERT_NAME" -type f -exec chmod 0644 {} +
	find "$dst/archive/$IE_CERT_NAME" -type f -name 'privkey*.pem' -exec chmod 0600 {} +
}

# write_renewal_conf writes the lineage's renewal file from stack.json (certbot finds a lineage
# through it): DNS-01 through Route 53, the stack's deploy hook, nothing from the bucket.
write_renewal_conf() {
	local le=$IE_ETC/letsencrypt n=$IE_CERT_NAME
	mkdir -p "$le/renewal"
	cat >"$le/renewal/$n.conf.tmp" <<-EOF
		archive_dir = $le/archive/$n
		cert = $le/live/$n/cert.pem
		privkey = $le/live/$n/privkey.pem
		chain = $le/live/$n/chain.pem
		fullchain = $le/live/$n/fullchain.pem

		[renewalparams]
		authenticator = dns-route53
		server = $IE_ACME_SERVER
		key_type = ecdsa
		deploy_hook = $IE_RENEW_HOOK
	EOF
	mv -f "$le/renewal/$n.conf.tmp" "$le/renewal/$n.conf"
}

# save_state keeps the lineage, and only the lineage, for the next instance.
save_state() {
	tar -cz -C "$IE_ETC" "letsencrypt/archive/$IE_CERT_NAME" "letsencrypt/live/$IE_CERT_NAME" |
		aws s3 cp - "$(cert_bucket_url)" --region "$REGION" --only-show-errors
	log "saved certificate state to $(cert_bucket_url)"
}
