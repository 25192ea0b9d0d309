<?php
/**
 * The few WordPress functions the OpenConsult plugin calls, enough to run it under php-cli in the tests.
 *
 * Escaping functions behave like WordPress's (esc_url keeps only URL characters and known protocols and
 * writes & and ' as entities; esc_attr/esc_html encode quotes and angle brackets); the rest records calls.
 */

define( 'ABSPATH', __DIR__ . '/' );

$GLOBALS['wp_stub'] = array(
	'options'         => array(),
	'caps'            => array(),
	'is_admin'        => false,
	'shortcodes'      => array(),
	'actions'         => array(),
	'filters'         => array(),
	'scripts'         => array(),
	'settings_errors' => array(),
);

function add_action( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['wp_stub']['actions'][ $hook ][] = $callback;
	return true;
}

function add_filter( $hook, $callback, $priority = 10, $args = 1 ) {
	$GLOBALS['wp_stub']['filters'][ $hook ][] = $callback;
	return true;
}

function do_action( $hook, ...$args ) {
	foreach ( $GLOBALS['wp_stub']['actions'][ $hook ] ?? array() as $callback ) {
		call_user_func_array( $callback, $args );
	}
}

function add_shortcode( $tag, $callback ) {
	$GLOBALS['wp_stub']['shortcodes'][ $tag ] = $callback;
}

// WordPress's shortcode_parse_atts(): names lowercased, "double", 'single' or bare values.
function shortcode_parse_atts( $text ) {
	$atts    = array();
	$pattern = '/([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*\'([^\']*)\'(?:\s|$)|([\w-]+)\s*=\s*([^\s\'"]+)(?:\s|$)|"([^"]*)"(?:\s|$)|\'([^\']*)\'(?:\s|$)|(\S+)(?:\s|$)/';
	$text    = preg_replace( "/[\x{00a0}\x{200b}]+/u", ' ', $text );
	if ( preg_match_all( $pattern, $text, $match, PREG_SET_ORDER ) ) {
		foreach ( $match as $m ) {
			if ( ! empty( $m[1] ) ) {
				$atts[ strtolower( $m[1] ) ] = stripcslashes( $m[2] );
			} elseif ( ! empty( $m[3] ) ) {
				$atts[ strtolower( $m[3] ) ] = stripcslashes( $m[4] );
			} elseif ( ! empty( $m[5] ) ) {
				$atts[ strtolower( $m[5] ) ] = stripcslashes( $m[6] );
			} elseif ( isset( $m[7] ) && strlen( $m[7] ) ) {
				$atts[] = stripcslashes( $m[7] );
			} elseif ( isset( $m[8] ) && strlen( $m[8] ) ) {
				$atts[] = stripcslashes( $m[8] );
			} elseif ( isset( $m[9] ) ) {
				$atts[] = stripcslashes( $m[9] );
			}
		}
	} else {
		$atts = ltrim( $text );
	}
	return $atts;
}

// Self-closing shortcodes only (the plugin has no enclosing form); '' for no attributes, as WordPress passes.
function do_shortcode( $content ) {
	return preg_replace_callback(
		'/\[([a-z_-]+)(\s[^\]]*)?\]/',
		static function ( $m ) {
			if ( ! isset( $GLOBALS['wp_stub']['shortcodes'][ $m[1] ] ) ) {
				return $m[0];
			}
			$atts = isset( $m[2] ) && '' !== trim( $m[2] ) ? shortcode_parse_atts( $m[2] ) : '';
			return call_user_func( $GLOBALS['wp_stub']['shortcodes'][ $m[1] ], $atts, null, $m[1] );
		},
		$content
	);
}

function shortcode_atts( $pairs, $atts, $shortcode = '' ) {
	$atts = (array) $atts;
	$out  = array();
	foreach ( $pairs as $name => $default ) {
		$out[ $name ] = array_key_exists( $name, $atts ) ? $atts[ $name ] : $default;
	}
	return $out;
}

function wp_parse_url( $url, $component = -1 ) {
	return parse_url( $url, $component );
}

function esc_url_raw( $url, $protocols = null ) {
	$url = str_replace( ' ', '%20', ltrim( (string) $url ) );
	$url = preg_replace( '|[^a-z0-9-~+_.?#=!&;,/:%@$\|*\'()\[\]\x80-\xff]|i', '', $url );
	if ( '' === $url ) {
		return '';
	}
	if ( ! str_contains( $url, ':' ) && ! in_array( $url[0], array( '/', '#', '?' ), true )
		&& ! preg_match( '/^[a-z0-9-]+?\.php/i', $url ) ) {
		$url = 'http://' . $url; // As WordPress does for an address without a scheme.
	}
	$protocols = $protocols ?? array( 'http', 'https', 'mailto', 'tel' );
	if ( preg_match( '/^([a-z][a-z0-9+.-]*):/i', $url, $m ) && ! in_array( strtolower( $m[1] ), $protocols, true ) ) {
		return '';
	}
	return $url;
}

function esc_url( $url, $protocols = null ) {
	$url = esc_url_raw( $url, $protocols );
	return str_replace( array( '&', "'" ), array( '&#038;', '&#039;' ), $url );
}

function esc_attr( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function __( $text, $domain = 'default' ) {
	return $text;
}

function esc_html__( $text, $domain = 'default' ) {
	return esc_html( $text );
}

function esc_attr__( $text, $domain = 'default' ) {
	return esc_attr( $text );
}

function get_option( $name, $default = false ) {
	return $GLOBALS['wp_stub']['options'][ $name ] ?? $default;
}

function delete_option( $name ) {
	unset( $GLOBALS['wp_stub']['options'][ $name ] );
	return true;
}

function wp_enqueue_script( $handle, $src = '', $deps = array(), $ver = false, $args = array() ) {
	$GLOBALS['wp_stub']['scripts'][] = array(
		'handle' => $handle,
		'src'    => $src,
		'ver'    => $ver,
		'args'   => $args,
	);
}

function current_user_can( $capability ) {
	return in_array( $capability, $GLOBALS['wp_stub']['caps'], true );
}

function is_admin() {
	return $GLOBALS['wp_stub']['is_admin'];
}

function plugin_basename( $file ) {
	return basename( dirname( $file ) ) . '/' . basename( $file );
}

function load_plugin_textdomain( $domain, $deprecated = false, $path = false ) {
	return true;
}

function admin_url( $path = '' ) {
	return 'https://wordpress.example/wp-admin/' . ltrim( $path, '/' );
}

function add_settings_error( $setting, $code, $message, $type = 'error' ) {
	$GLOBALS['wp_stub']['settings_errors'][] = array(
		'setting' => $setting,
		'code'    => $code,
		'message' => $message,
	);
}
