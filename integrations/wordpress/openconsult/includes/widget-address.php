<?php
/**
 * Turning what an editor writes in widget="…" into the widget's address.
 *
 * OpenConsult's public layout: <organisation address>/widgets/walk-in/<key>/,
 * <organisation address>/widgets/booking/<key>/ and the resize script <organisation address>/static/widgets/embed.js.
 *
 * @package OpenConsult
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * The widget kinds OpenConsult has, as they appear in addresses.
 */
const OPENCONSULT_KINDS = array( 'walk-in', 'booking' );

/**
 * A widget key is random and URL-safe (letters, digits, - and _); anything else is a typing or copying mistake.
 */
const OPENCONSULT_KEY_PATTERN = '/^[A-Za-z0-9_-]{8,64}$/';

/**
 * "https://host[:port]" of an address, or '' when it is not an http(s) address with a host.
 *
 * @param string $address Any address the administrator or an editor wrote.
 * @return string
 */
function openconsult_origin( $address ) {
	$parts = wp_parse_url( trim( (string) $address ) );
	if ( ! is_array( $parts ) || empty( $parts['scheme'] ) || empty( $parts['host'] ) ) {
		return '';
	}
	$scheme = strtolower( $parts['scheme'] );
	if ( 'https' !== $scheme && 'http' !== $scheme ) {
		return '';
	}
	if ( isset( $parts['user'] ) || isset( $parts['pass'] ) ) {
		return ''; // user:password@ hides the real host from a reader.
	}
	$host = strtolower( $parts['host'] );
	if ( ! preg_match( '/^[a-z0-9.-]+$/', $host ) ) {
		return '';
	}
	return $scheme . '://' . $host . ( isset( $parts['port'] ) ? ':' . (int) $parts['port'] : '' );
}

/**
 * The organisation's address from Settings → OpenConsult ('' when not set).
 *
 * @return string
 */
function openconsult_configured_origin() {
	return openconsult_origin( get_option( OPENCONSULT_OPTION, '' ) );
}

/**
 * Parse widget="walk-in:KEY", widget="booking:KEY" or a full widget address.
 *
 * @param string $widget What the editor wrote.
 * @return array{kind:string,key:string,origin:string}|string Parts, or an error code:
 *     'invalid' (not a widget reference) or 'no-address' (kind:key without an organisation address in the settings).
 */
function openconsult_parse_widget( $widget ) {
	$widget = trim( (string) $widget );
	if ( preg_match( '#^(walk-in|booking):([^/]*)$#', $widget, $match ) ) {
		if ( ! preg_match( OPENCONSULT_KEY_PATTERN, $match[2] ) ) {
			return 'invalid';
		}
		$origin = openconsult_configured_origin();
		if ( '' === $origin ) {
			return 'no-address';
		}
		return array(
			'kind'   => $match[1],
			'key'    => $match[2],
			'origin' => $origin,
		);
	}
	$origin = openconsult_origin( $widget );
	$path   = (string) wp_parse_url( $widget, PHP_URL_PATH );
	if ( '' === $origin || ! preg_match( '#^/widgets/(walk-in|booking)/([^/]+)/?$#', $path, $match ) ) {
		return 'invalid';
	}
	if ( ! preg_match( OPENCONSULT_KEY_PATTERN, $match[2] ) ) {
		return 'invalid';
	}
	return array(
		'kind'   => $match[1],
		'key'    => $match[2],
		'origin' => $origin,
	);
}

/**
 * The widget page's address.
 *
 * @param array $widget Parts from openconsult_parse_widget().
 * @return string
 */
function openconsult_widget_url( $widget ) {
	return $widget['origin'] . '/widgets/' . $widget['kind'] . '/' . rawurlencode( $widget['key'] ) . '/';
}

/**
 * The resize script's address on the organisation's host.
 *
 * @param string $origin The organisation's address.
 * @return string
 */
function openconsult_script_url( $origin ) {
	return $origin . '/static/widgets/embed.js';
}
